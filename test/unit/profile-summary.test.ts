import { describe, expect, it } from "vitest";
import { packageOf, selfTimes, type CpuProfile } from "../../bench/profile-summary.js";

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

describe("bench/profile-summary", () => {
  it("names the package of a frame", () => {
    expect(packageOf(frame("f", "file:///app/node_modules/ioredis/built/Redis.js"))).toBe("ioredis");
    expect(packageOf(frame("f", "file:///app/node_modules/@smithy/core/dist-cjs/index.js"))).toBe("@smithy/core");
    expect(packageOf(frame("f", "file:///app/node_modules/a/node_modules/@aws-sdk/core/x.js"))).toBe("@aws-sdk/core");
    expect(packageOf(frame("f", "file:///app/dist/src/consumer/process-job.js"))).toBe("src/consumer");
    expect(packageOf(frame("f", "node:internal/abort_controller"))).toBe("node:abort_controller");
    expect(packageOf(frame("(garbage collector)", ""))).toBe("(garbage collector)");
  });

  it("adds each sample's time to the node it landed on, by package and by function", () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame("(root)", ""), children: [2, 3] },
        { id: 2, callFrame: frame("send", "file:///app/node_modules/ioredis/built/Redis.js", 9), children: [4] },
        { id: 3, callFrame: frame("(idle)", "") },
        { id: 4, callFrame: frame("publish", "file:///app/dist/src/outcomes/publish.js", 41) },
      ],
      samples: [2, 4, 2, 3, 4, 4],
      timeDeltas: [10, 20, 30, 40, 50, 60],
    };
    const { total, byPackage, byFunction } = selfTimes(profile);
    expect(total).toBe(210);
    expect(Object.fromEntries(byPackage)).toEqual({ ioredis: 40, "src/outcomes": 130, "(idle)": 40 });
    expect(byFunction.get("send ioredis:10")).toBe(40);
    expect(byFunction.get("publish src/outcomes:42")).toBe(130);
  });
});
