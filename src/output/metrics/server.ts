import { one, sec, type SeriesKit } from "./series.js";

/** The HTTP listeners (the certificate a renewal must replace in time, refused logins, tokens and display streams) and config reloads. */
export function registerServerSeries({ series, read, removed }: SeriesKit): void {
  const tlsL = () => read("tls") ?? [];
  series("tls", "gauge", "tls_certificate_expiry_timestamp_seconds", "When the certificate the listener serves expires (absent without TLS).", ["listener"], () =>
    tlsL().map((t) => ({ labels: { listener: t.listener }, value: sec(t.validTo) })),
  );
  series("tls", "counter", "tls_reload_errors_total", "Certificate reloads that failed (unreadable or mismatched pair: the old certificate stays in service) and directory watches that could not be set up.", ["listener"], () =>
    tlsL().map((t) => ({ labels: { listener: t.listener }, value: t.reloadErrors })),
  );
  series("authRefusals", "counter", "http_auth_refusals_total", "Requests refused by a listener's guard, by reason (bad-host, no-token, bad-token, bad-origin, login-failed).", ["listener", "reason"], () =>
    (read("authRefusals") ?? []).map((r) => ({ labels: { listener: r.listener, reason: r.reason }, value: r.count })),
  );
  series("displayRefusals", "counter", "lane_display_refusals_total", "Lane display streams refused (LANE_STREAMS_FULL, CLIENT_STREAMS_FULL: answered 429) or cut off (SLOW_CLIENT: too much unread).", ["lane", "reason"], () =>
    // The server keeps a removed lane's tally: its series end with the lane.
    (read("displayRefusals") ?? []).filter((r) => !removed.lanes.has(r.lane)).map((r) => ({ labels: { lane: r.lane, reason: r.reason }, value: r.count })),
  );

  // Config reloads (admin API, SIGHUP).
  const reloads = () => read("configReloads");
  series("configReloads", "counter", "config_reloads_total", "Config reloads by result: applied, failed (a section could not be applied), invalid (the file did not read or validate: nothing applied).", ["result"], () => {
    const r = reloads();
    return r ? (["applied", "failed", "invalid"] as const).map((result) => ({ labels: { result }, value: r[result] })) : [];
  });
  series("configReloads", "gauge", "config_last_reload_timestamp_seconds", "When the last reload that applied ran (absent before the first).", [], () => one(sec(reloads()?.lastAppliedAt)));
  series("configReloads", "gauge", "config_restart_required", "1 while the last applied reload named sections that need a restart (gateway, server, redis): their old values still run.", [], () => {
    const r = reloads();
    return one(r === undefined ? undefined : r.restartRequired ? 1 : 0);
  });
}
