import { describe, expect, it } from "vitest";
import { cameraSchema, mainStreamPolicy } from "../../src/ingest/options.js";
import { backoffDelay, displayUrl, ffmpegArgs, ffmpegInvocation, frameLayout, inputUrl, isCorruptWarning, subStreamCamera } from "../../src/ingest/index.js";
import { EventWindow } from "../../src/ingest/event-window.js";
import { testCamera } from "./helpers.js";

describe("ffmpeg arguments", () => {
  it("rtsp: low-delay input flags, transport, timeout, Y-plane friendly output, no frame duplication", () => {
    const a = ffmpegArgs(testCamera({ width: 1280, height: 720, transport: "udp" }), "rtsp://h/x");
    const s = a.join(" ");
    expect(s).toContain("-fflags nobuffer -flags low_delay");
    expect(s).toContain("-rtsp_transport udp -timeout 5000000 -buffer_size 4194304 -i rtsp://h/x");
    expect(s).toContain("-vf scale=1280:720,format=pix_fmts=yuv420p|yuvj420p|nv12,extractplanes=y");
    expect(s).toContain("-threads 1");
    expect(s).toContain("-threads 1 -skip_loop_filter all");
    expect(s).not.toContain("-hwaccel");
    expect(s).toContain("-fps_mode passthrough -f rawvideo pipe:1");
    expect(s.indexOf("-fflags")).toBeLessThan(s.indexOf("-i "));
  });

  it("tcp transport needs no socket buffer option", () => {
    expect(ffmpegArgs(testCamera(), "rtsp://h/x").join(" ")).toContain("-rtsp_transport tcp -timeout 5000000 -i rtsp://h/x");
  });

  it("file: the same path, looped in real time", () => {
    const a = ffmpegArgs(testCamera({ source: "file", url: undefined, file: "/clips/a.ts", pixelFormat: "gray" }), "");
    expect(a.join(" ")).toContain("-re -stream_loop -1 -i /clips/a.ts");
    expect(a.join(" ")).toContain("format=gray");
    expect(a).not.toContain("-rtsp_transport");
  });

  it("hwaccel presets put the documented decoder options before the input", () => {
    const args = (hw: "vaapi" | "qsv" | "cuda", dev?: string) => ffmpegArgs(testCamera({ hwaccel: hw, ...(dev ? { hwaccelDevice: dev } : {}) }), "rtsp://h/x").join(" ");
    expect(args("vaapi")).toContain("-hwaccel vaapi -hwaccel_device /dev/dri/renderD128 ");
    expect(args("vaapi", "/dev/dri/renderD129")).toContain("-hwaccel_device /dev/dri/renderD129");
    expect(args("qsv")).toContain("-hwaccel qsv -qsv_device /dev/dri/renderD128 ");
    expect(args("cuda")).toContain("-hwaccel cuda ");
    expect(args("cuda")).not.toContain("-hwaccel_device");
    for (const hw of ["vaapi", "qsv", "cuda"] as const) expect(args(hw).indexOf("-hwaccel")).toBeLessThan(args(hw).indexOf("-i "));
  });

  it("input presets and verbatim inputArgs; decoder threads and loop filter", () => {
    const s = (over: Parameters<typeof testCamera>[0]) => ffmpegArgs(testCamera(over), "rtsp://h/x").join(" ");
    expect(s({ inputArgs: "preset-rtsp-restream" })).toContain("-rtsp_transport tcp -timeout 10000000 -i rtsp://h/x");
    expect(s({ inputArgs: "preset-rtsp-udp" })).toContain("-rtsp_transport udp -timeout 5000000 -buffer_size 4194304 -i rtsp://h/x");
    expect(s({ inputArgs: ["-rtsp_transport", "http", "-timeout", "1000"] })).toContain("-threads 1 -skip_loop_filter all -rtsp_transport http -timeout 1000 -i rtsp://h/x");
    expect(s({ decodeThreads: 0, skipLoopFilter: false })).toContain("-threads 0 -fflags");
    expect(() => testCamera({ inputArgs: ["-i", "rtsp://x/y"] })).toThrow(/no -i/);
    expect(() => testCamera({ inputArgs: ["-rtsp_transport"] })).toThrow(/pairs/);
  });

  it("a URL with credentials goes to ffmpeg on stdin as an ffconcat script, never on the command line", () => {
    const cam = testCamera();
    const inv = ffmpegInvocation(cam, inputUrl({ url: "rtsp://cam.local/s1", username: "op", password: "p@ss'w" }));
    const line = inv.args.join(" ");
    expect(line).not.toContain("p%40ss");
    expect(line).not.toContain("cam.local");
    expect(line).toContain("-f concat -safe 0 -protocol_whitelist pipe,rtsp,rtsps,rtp,srtp,tcp,udp,tls,crypto,httpproxy -i pipe:0");
    // Format options on both layers, RTSP ones only inside, decoder flags only outside.
    expect(line).toContain("-fflags nobuffer -flags low_delay -probesize 500000 -analyzeduration 500000 -f concat");
    expect(line).not.toContain("-rtsp_transport");
    expect(inv.stdin).toBe(
      ["ffconcat version 1.0", "file 'rtsp://op:p%40ss'\\''w@cam.local/s1'", "option fflags nobuffer", "option probesize 500000", "option analyzeduration 500000", "option rtsp_transport tcp", "option timeout 5000000", ""].join("\n"),
    );
    // No credentials: the plain command line, nothing on stdin.
    expect(ffmpegInvocation(cam, "rtsp://cam.local/s1")).toEqual({ args: ffmpegArgs(cam, "rtsp://cam.local/s1") });
  });

  it("credentials in the query string (?user=..&password=..) go on stdin too, whatever the log masker hides", () => {
    const cam = testCamera();
    for (const url of ["rtsp://10.0.0.9/cam/realmonitor?channel=1&subtype=0&user=admin&password=Q-Secret-77", "rtsp://10.0.0.9/live?token=Q-Secret-77", "rtsp://10.0.0.9/live?channel=1&pwd=Q-Secret-77"]) {
      const inv = ffmpegInvocation(cam, url);
      expect(inv.stdin, url).toContain(`file '${url}'`);
      expect(inv.args.join(" "), url).not.toContain("Q-Secret-77");
      expect(inv.args.join(" ")).toContain("-i pipe:0");
    }
    // A query without a secret stays on the command line.
    const plain = "rtsp://10.0.0.9/cam/realmonitor?channel=1&subtype=0";
    expect(ffmpegInvocation(cam, plain)).toEqual({ args: ffmpegArgs(cam, plain) });
  });

  it("frame layout: yuv420p is 1.5 bytes per pixel, the first w*h are luma", () => {
    expect(frameLayout(1920, 1080, "yuv420p")).toEqual({ frameBytes: 1920 * 1080 * 1.5, lumaBytes: 1920 * 1080 });
    expect(frameLayout(1920, 1080, "gray")).toEqual({ frameBytes: 1920 * 1080, lumaBytes: 1920 * 1080 });
    expect(frameLayout(1920, 1080, "yplane")).toEqual({ frameBytes: 1920 * 1080, lumaBytes: 1920 * 1080 });
    expect(ffmpegArgs(testCamera({ pixelFormat: "yuv420p" }), "rtsp://h/x").join(" ")).not.toContain("extractplanes");
  });
});

describe("camera URLs", () => {
  it("inserts separate credentials URL-encoded, replacing embedded ones", () => {
    expect(inputUrl({ url: "rtsp://cam.local:554/s1", username: "op", password: "p@ss:w/rd" })).toBe("rtsp://op:p%40ss%3Aw%2Frd@cam.local:554/s1");
    expect(inputUrl({ url: "rtsp://old:old@cam.local/s1", username: "op", password: "x" })).toBe("rtsp://op:x@cam.local/s1");
    expect(inputUrl({ url: "rtsp://cam.local/s1" })).toBe("rtsp://cam.local/s1");
  });

  it("gives the substream the camera's credentials and its own size and rate", () => {
    const cam = cameraSchema.parse({ id: "c1", lane: "l1", url: "rtsp://c/main", username: "op", password: "s3cret!", subStream: { url: "rtsp://c/sub", fps: 10 } });
    const sub = subStreamCamera(cam);
    expect(inputUrl(sub)).toBe("rtsp://op:s3cret!@c/sub");
    expect([sub.width, sub.height, sub.fps, sub.subStream, sub.id]).toEqual([640, 360, 10, undefined, "c1"]);
    expect(inputUrl(cam)).toBe("rtsp://op:s3cret!@c/main");
    expect(displayUrl({ source: "rtsp", url: "rtsp://op:s3cret!@c/sub" })).toBe("rtsp://***:***@c/sub");
  });

  it("never shows credentials", () => {
    expect(displayUrl({ source: "rtsp", url: "rtsp://admin:pw1234@c/main" })).toBe("rtsp://***:***@c/main");
    expect(displayUrl({ source: "file", file: "/a.ts" })).toBe("file:/a.ts");
  });
});

describe("camera config", () => {
  it("accepts a URL with embedded credentials (masked elsewhere)", () => {
    expect(() => testCamera({ url: "rtsp://a:b@h/x" })).not.toThrow();
  });

  it("rejects a non-RTSP URL, a missing URL, odd yuv420p sizes and an inverted backoff", () => {
    const bad = (over: Record<string, unknown>) => cameraSchema.safeParse({ id: "c", lane: "l", url: "rtsp://h/x", ...over });
    expect(bad({ url: "http://h/x" }).success).toBe(false);
    expect(bad({ url: undefined }).success).toBe(false);
    expect(bad({ width: 641 }).success).toBe(false);
    expect(bad({ width: 641, pixelFormat: "gray" }).success).toBe(true);
    expect(bad({ backoffInitialMs: 5000, backoffMaxMs: 1000 }).success).toBe(false);
    expect(bad({ bogus: 1 }).success).toBe(false);
  });

  it("a substream: defaults to 640x360@5 and on-activity with a 60 s hold; its URL is checked and never echoed; the old string form is refused", () => {
    const parse = (over: Record<string, unknown>) => cameraSchema.safeParse({ id: "c", lane: "l", url: "rtsp://h/main", ...over });
    const ok = parse({ subStream: { url: "rtsp://h/sub" } });
    expect(ok.success && ok.data.subStream).toEqual({ url: "rtsp://h/sub", width: 640, height: 360, fps: 5 });
    expect(ok.success && [mainStreamPolicy(ok.data), ok.data.warmHoldMs]).toEqual(["on-activity", 60000]);
    const plain = parse({});
    expect(plain.success && mainStreamPolicy(plain.data)).toBe("always");
    const always = parse({ subStream: { url: "rtsp://h/sub" }, mainStream: "always" });
    expect(always.success && mainStreamPolicy(always.data)).toBe("always");
    const issue = (over: Record<string, unknown>) => {
      const r = parse(over);
      return r.success ? undefined : r.error.issues.map((i) => ({ path: i.path.join("."), message: i.message, input: (i as { input?: unknown }).input }));
    };
    expect(issue({ mainStream: "on-activity" })?.map((i) => [i.path, i.message])).toEqual([["mainStream", "on-activity needs a subStream to watch"]]);
    const badUrl = parse({ subStream: { url: "http://op:pw-sub@h/sub" } });
    expect(badUrl.success ? [] : badUrl.error.issues.map((i) => [i.path.join("."), i.message])).toEqual([["subStream.url", "must be an rtsp:// or rtsps:// URL"]]);
    expect(JSON.stringify(badUrl.error?.issues)).not.toContain("pw-sub");
    expect(issue({ subStream: { url: "rtsp://h/sub", width: 641 } })?.[0]?.path).toBe("subStream.width");
    expect(issue({ subStream: { url: "rtsp://h/sub", bogus: 1 } })).toBeDefined();
    expect(issue({ subStream: "rtsp://h/sub" })?.[0]?.path).toBe("subStream");
    expect(issue({ source: "file", file: "/a.ts", url: undefined, subStream: { url: "rtsp://h/sub" } })?.[0]?.path).toBe("subStream");
    expect(issue({ subStream: { url: "rtsp://h/sub" }, warmHoldMs: 10 })?.[0]?.path).toBe("warmHoldMs");
  });
});

describe("small pure parts", () => {
  it("recognises corrupt-frame warnings", () => {
    expect(isCorruptWarning("[h264 @ 0x5] error while decoding MB 3 4, bytestream -7")).toBe(true);
    expect(isCorruptWarning("[h264 @ 0x5] concealing 120 DC, 120 AC, 120 MV errors in I frame")).toBe(true);
    expect(isCorruptWarning("[rtsp @ 0x5] method SETUP failed: 461 Unsupported transport")).toBe(false);
  });

  it("backoff doubles from the initial delay to the cap", () => {
    const p = { initialMs: 100, maxMs: 1000, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 50].map((a) => backoffDelay(a, p))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(backoffDelay(0, { initialMs: 1, maxMs: 1, jitter: 0 })).toBe(10);
  });

  it("event window forgets events older than the window", () => {
    const w = new EventWindow(1000);
    w.add(0);
    w.add(500);
    expect(w.count(999)).toBe(2);
    expect(w.count(1000)).toBe(1);
    expect(w.count(1501)).toBe(0);
  });
});
