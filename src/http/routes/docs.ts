import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import { problem } from "../http-errors.js";
import { sendAnswer } from "../http-context.js";
import { codeOfSlug, ERROR_CODES, PROBLEM_TYPES, PROBLEMS_PATH, problemSlug } from "../problem-types.js";

export const DOCS_PATH = "/docs";

/**
 * What the documentation pages allow: everything from this origin, nothing from anywhere else
 * (scripts, styles, images, fonts, fetches), no inline script or style; no framing.
 */
export const DOCS_CSP = "default-src 'self'; frame-ancestors 'none'";

/**
 * The API's documentation, public like /openapi.json (it shows nothing the document does not):
 * Swagger UI at /docs, from the swagger-ui-dist package and served by us, every asset included,
 * and one page per problem type at /problems/<kind> (what each `type` URI of an error names).
 * "Try it out" on a /v1 route needs a bearer token, given in the page's Authorize dialog: it is
 * kept in the page's memory and sent only to this origin (the CSP allows no other).
 */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  const asset = swaggerUiAssets();

  app.get(DOCS_PATH, async (_request, reply) => secure(reply).type("text/html; charset=utf-8").send(DOCS_HTML));
  app.get<{ Params: { file: string } }>(`${DOCS_PATH}/:file`, async (request, reply) => {
    const found = await asset(request.params.file);
    if (!found)
      return sendAnswer(reply, problem("NOT_FOUND", `no documentation asset ${request.params.file.slice(0, 80)}`));
    return secure(reply).type(found.type).header("cache-control", "public, max-age=3600").send(found.body);
  });

  app.get(PROBLEMS_PATH, async (_request, reply) =>
    secure(reply).type("text/html; charset=utf-8").send(problemIndexHtml()),
  );
  app.get<{ Params: { kind: string } }>(`${PROBLEMS_PATH}/:kind`, async (request, reply) => {
    const code = codeOfSlug(request.params.kind);
    if (!code) return sendAnswer(reply, problem("NOT_FOUND", `no problem type ${request.params.kind.slice(0, 80)}`));
    return secure(reply).type("text/html; charset=utf-8").send(problemHtml(code));
  });
}

function secure(reply: FastifyReply): FastifyReply {
  return reply.header("content-security-policy", DOCS_CSP).header("x-content-type-options", "nosniff");
}

interface Asset {
  type: string;
  body: Buffer | string;
}

/**
 * The files the page loads, by name: Swagger UI's bundle, its stylesheet with every `data:` image
 * moved out to a file of its own (`img-<n>.<ext>`: `default-src 'self'` refuses `data:` images),
 * our own start-up script and stylesheet. Read once, on first use; nothing else under /docs/ is
 * served.
 */
function swaggerUiAssets(): (name: string) => Promise<Asset | undefined> {
  const dist = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
  let loading: Promise<Map<string, Asset>> | undefined;
  const load = async () => {
    const [bundle, css, icon] = await Promise.all(
      ["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"].map((f) => readFile(join(dist, f))),
    );
    const { text, images } = withoutDataUrls(css!.toString("utf8"));
    return new Map<string, Asset>([
      ["swagger-ui-bundle.js", { type: "text/javascript; charset=utf-8", body: bundle! }],
      ["swagger-ui.css", { type: "text/css; charset=utf-8", body: text }],
      ["favicon-32x32.png", { type: "image/png", body: icon! }],
      ["docs.js", { type: "text/javascript; charset=utf-8", body: DOCS_JS }],
      ["docs.css", { type: "text/css; charset=utf-8", body: DOCS_CSS }],
      ...images,
    ]);
  };
  return async (name) => {
    loading ??= load().catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
    return (await loading).get(name);
  };
}

const IMAGE_TYPES: Record<string, string> = { "image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg" };

/**
 * Each `url(data:…)` of a stylesheet replaced by `url(img-<n>.<ext>)`, and the images to serve
 * under those names. A data URL of another media type is left as it is (and refused by the CSP:
 * the page test would show it).
 */
export function withoutDataUrls(css: string): { text: string; images: Array<[string, Asset]> } {
  const images: Array<[string, Asset]> = [];
  // url("…") with CSS escapes inside the quotes, or url(data:…) unquoted.
  const text = css.replace(/url\(\s*(?:"((?:[^"\\]|\\.)*)"|(data:[^)\s]*))\s*\)/g, (whole, quoted, bare) => {
    const url = typeof quoted === "string" ? quoted.replace(/\\(.)/g, "$1") : (bare as string);
    const match = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s.exec(url);
    const ext = match ? IMAGE_TYPES[match[1]!.toLowerCase()] : undefined;
    if (!match || !ext) return whole;
    const base64 = match[2]!.split(";").includes("base64");
    const body = base64 ? Buffer.from(match[3]!, "base64") : Buffer.from(percentDecode(match[3]!), "utf8");
    const name = `img-${images.length}.${ext}`;
    images.push([name, { type: match[1]!.toLowerCase(), body }]);
    return `url(${name})`;
  });
  return { text, images };
}

function percentDecode(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
}

// The page is /docs, its assets /docs/<file>. Relative URLs throughout, so the page also works
// behind a proxy that mounts the API under a prefix.
const DOCS_HTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>pc-invitations HTTP API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
<link rel="stylesheet" href="docs/docs.css">
<link rel="icon" type="image/png" href="docs/favicon-32x32.png">
</head>
<body>
<p class="pci-links"><a href="openapi.json">openapi.json</a> · <a href="problems">problem types</a></p>
<div id="swagger-ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/docs.js"></script>
</body>
</html>
`;

// BaseLayout: no top bar (its URL box loads documents from anywhere) and no validator badge (an
// image from validator.swagger.io, drawn by StandaloneLayout only: validatorUrl null all the same,
// should the layout change). The token given to Authorize is not persisted.
const DOCS_JS = `"use strict";
window.ui = SwaggerUIBundle({
  url: new URL("openapi.json", document.baseURI).href,
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
`;

const DOCS_CSS = `body { margin: 0; background: #fafafa; }
.pci-links { margin: 0; padding: 8px 20px; font-family: sans-serif; font-size: 14px; }
`;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escapeHtml(title)}</title>\n` +
    `</head>\n<body>\n${body}</body>\n</html>\n`
  );
}

function problemHtml(code: (typeof ERROR_CODES)[number]): string {
  const t = PROBLEM_TYPES[code];
  // Back-quoted words of the description are names (fields, headers): shown as code.
  const about = escapeHtml(t.about).replace(/`([^`]+)`/g, "<code>$1</code>");
  return page(
    `${t.title} (${code})`,
    `<h1>${escapeHtml(t.title)}</h1>\n<p>HTTP ${t.status} · <code>code</code>: <code>${code}</code> · ` +
      `<code>type</code>: <code>${PROBLEMS_PATH}/${problemSlug(code)}</code></p>\n<p>${about}</p>\n` +
      `<p><a href="../problems">All problem types</a> · <a href="../docs">API documentation</a></p>\n`,
  );
}

function problemIndexHtml(): string {
  const rows = ERROR_CODES.map((code) => {
    const t = PROBLEM_TYPES[code];
    const link = `<a href="problems/${problemSlug(code)}">${escapeHtml(t.title)}</a>`;
    return `<li>${link}: ${t.status} <code>${code}</code></li>`;
  });
  return page(
    "pc-invitations problem types",
    `<h1>Problem types</h1>\n<p>Every error answer of the API is <code>application/problem+json</code> ` +
      `(RFC 9457); its <code>type</code> is one of these.</p>\n<ul>\n${rows.join("\n")}\n</ul>\n`,
  );
}
