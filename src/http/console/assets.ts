/**
 * The console's two assets, served by the package itself at /console/assets/ (nothing is loaded
 * from anywhere else: the CSP is `default-src 'self'`). The script is progressive: every page
 * works without it.
 */

export const CONSOLE_CSS = `:root { color-scheme: light; --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --accent: #0a5bd3;
  --bad: #b42318; --ok: #1a7f37; --bg: #ffffff; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
.skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1rem; background: #0d1117; color: #fff; }
header a { color: #fff; }
.brand { font-weight: 600; }
nav ul { display: flex; flex-wrap: wrap; gap: .75rem; list-style: none; margin: 0; padding: 0; }
nav a { text-decoration: none; padding: .25rem .4rem; border-radius: 4px; }
nav a[aria-current="page"] { background: #30363d; text-decoration: underline; }
.who { margin-left: auto; display: flex; gap: .5rem; align-items: center; }
main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border-bottom: 1px solid var(--line); padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--panel); }
dl.figures { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1.25rem; }
dl.figures dt { font-weight: 600; }
dl.figures dd { margin: 0; }
form.inline { display: inline; }
fieldset { border: 1px solid var(--line); padding: .75rem 1rem; margin: 0 0 1rem; }
label { font-weight: 600; margin-right: .35rem; }
.field { display: inline-flex; flex-direction: column; margin: 0 1rem .75rem 0; vertical-align: top; }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid #8c959f; border-radius: 4px; }
button { background: var(--panel); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
:focus-visible { outline: 3px solid #fb8c00; outline-offset: 2px; }
.error { color: var(--bad); font-weight: 600; }
.notice { background: #ddf4ff; border: 1px solid #54aeff; padding: .5rem .75rem; border-radius: 4px; }
.muted { color: var(--muted); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; }
.login { max-width: 22rem; margin: 4rem auto; }
.login .field { display: flex; }
ol.timeline { padding-left: 1.25rem; }
ol.timeline li { margin-bottom: .35rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

export const CONSOLE_JS = `"use strict";
// Countdowns: <time data-countdown datetime="ISO"> shows how long is left, every second.
function tick() {
  for (const el of document.querySelectorAll("time[data-countdown]")) {
    const left = Date.parse(el.getAttribute("datetime")) - Date.now();
    el.textContent = left <= 0 ? "expired" : "in " + human(left);
  }
}
function human(ms) {
  const s = Math.floor(ms / 1000), m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return d + " d " + (h % 24) + " h";
  if (h > 0) return h + " h " + (m % 60) + " min";
  if (m > 0) return m + " min " + (s % 60) + " s";
  return s + " s";
}
document.addEventListener("DOMContentLoaded", () => {
  tick();
  setInterval(tick, 1000);
  // "Select all" boxes: <input type=checkbox data-select-all="name">.
  for (const all of document.querySelectorAll("input[data-select-all]")) {
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll('input[type=checkbox][name="' + all.dataset.selectAll + '"]'))
        box.checked = all.checked;
    });
  }
  // Buttons that change things for good ask first: data-confirm="text".
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (e) => {
      if (!window.confirm(button.dataset.confirm)) e.preventDefault();
    });
  }
});
`;
