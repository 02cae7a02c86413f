export * from "./request.js";
export * from "./job.js";
export * from "./connection.js";
export * from "./outcome.js";
export * from "./config.js";
export * from "./issues.js";
