import { maskUrl } from "../core/mask.js";
import type { CameraConfig } from "./types.js";

/**
 * The URL handed to ffmpeg: separate username/password fields are inserted here (URL-encoded),
 * so the config file and the logs never need to hold them.
 */
export function inputUrl(cam: Pick<CameraConfig, "url" | "username" | "password">): string {
  const raw = cam.url ?? "";
  if (cam.username === undefined && cam.password === undefined) return raw;
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:[^@/]*@)?(.*)$/i.exec(raw);
  if (!m) return raw;
  const user = encodeURIComponent(cam.username ?? "");
  const pass = cam.password === undefined ? "" : `:${encodeURIComponent(cam.password)}`;
  return `${m[1]}${user}${pass}@${m[2]}`;
}

/** What logs, stats and metrics show: credentials masked, whichever way they were given. */
export function displayUrl(cam: Pick<CameraConfig, "source" | "url" | "file">): string {
  if (cam.source === "file") return `file:${cam.file ?? ""}`;
  return maskUrl(cam.url ?? "");
}
