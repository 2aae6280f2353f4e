// Builds static/dist from static/src: one ES module per entry point, shared code split out.
import { build } from "esbuild";
import { rmSync } from "node:fs";

const outdir = "static/dist";
rmSync(outdir, { recursive: true, force: true });

await build({
  entryPoints: [
    "static/src/app.js",
    "static/src/common/realtime.js",
    "static/src/rooms/room.js",
    "static/src/css/app.css",
    // The room page loads these two: dist/whiteboard.js and dist/whiteboard.css.
    { in: "static/src/whiteboard/index.js", out: "whiteboard" },
    { in: "static/src/whiteboard/copy.js", out: "board_copy" },
    { in: "static/src/notes/room_panel.js", out: "room_panel" },
    { in: "static/src/notes/records.css", out: "records" },
    "static/src/css/whiteboard.css",
    // Every page: registers the service worker (the home-screen app, Web Push).
    { in: "static/src/notify/install.js", out: "install" },
    // Attendance pages load dist/attendance.css (room.js bundles the heartbeat itself).
    "static/src/attendance/attendance.css",
    // Partners pages (referrals, the council sheet) load dist/partners.css.
    "static/src/partners/partners.css",
    // The program report's pages load dist/reports.css (screen and A4 print).
    "static/src/reports/reports.css",
  ],
  bundle: true,
  format: "esm",
  splitting: true,
  minify: true,
  sourcemap: true,
  target: ["es2020", "safari14"],
  outdir,
  entryNames: "[name]",
  chunkNames: "chunks/[name]-[hash]",
  logLevel: "warning",
});
// The service worker is a classic script of its own, served from /service-worker.js.
await build({
  entryPoints: [{ in: "static/src/notify/service-worker.js", out: "service-worker" }],
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020", "safari14"],
  outdir,
  logLevel: "warning",
});
console.log(`built ${outdir}`);
