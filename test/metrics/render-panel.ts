import { launchChromium } from "../display/browser.js";

/**
 * Grafana is not installable here (no Debian package), so the docs' panel picture is the
 * dashboard query's real Prometheus result drawn as a time-series chart in Chromium.
 */
export async function renderPanelPng(title: string, expr: string, series: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>): Promise<Buffer> {
  const W = 760, H = 300, L = 50, R = 140, T = 20, B = 30;
  const pts = series.flatMap((s) => s.values.map(([t, v]) => [t, Number(v)] as const)).filter(([, v]) => Number.isFinite(v));
  const t0 = Math.min(...pts.map(([t]) => t)), t1 = Math.max(...pts.map(([t]) => t));
  const vMax = Math.max(1, ...pts.map(([, v]) => v)) * 1.15;
  const x = (t: number) => L + ((t - t0) / Math.max(1, t1 - t0)) * (W - L - R);
  const y = (v: number) => T + (1 - v / vMax) * (H - T - B);
  const colours = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#b877d9"];
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const v = f * vMax;
    return `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#2c3235"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}</text>`;
  });
  const lines = series.map((s, i) => {
    const d = s.values.filter(([, v]) => Number.isFinite(Number(v))).map(([t, v], j) => `${j ? "L" : "M"}${x(t).toFixed(1)},${y(Number(v)).toFixed(1)}`).join(" ");
    const c = colours[i % colours.length]!;
    return `<path d="${d}" fill="none" stroke="${c}" stroke-width="2"/><rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="4" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 20 + 6}">${esc(s.metric.camera ?? JSON.stringify(s.metric))}</text>`;
  });
  const ticks = [0, 0.5, 1].map((f) => {
    const t = t0 + f * (t1 - t0);
    return `<text x="${x(t)}" y="${H - 8}" text-anchor="middle">${new Date(t * 1000).toISOString().slice(11, 19)}</text>`;
  });
  const html = `<!doctype html><html><body style="margin:0;background:#111217;font:12px DejaVu Sans,sans-serif;color:#ccccdc">
<div id="panel" style="width:${W}px;padding:8px;background:#181b1f;border:1px solid #2c3235">
<div style="font-weight:600;margin-bottom:4px">${esc(title)}</div>
<svg width="${W}" height="${H}" style="fill:#9fa7b3">${grid.join("")}${lines.join("")}${ticks.join("")}</svg>
<div style="color:#6e7680;font-family:DejaVu Sans Mono,monospace;font-size:11px">${esc(expr)} · real Prometheus query_range, 1 s step</div>
</div></body></html>`;
  const b = await launchChromium({ width: W + 40, height: H + 100 });
  try {
    const page = await b.context.newPage();
    await page.setContent(html);
    return await page.locator("#panel").screenshot();
  } finally {
    await b.close();
  }
}
