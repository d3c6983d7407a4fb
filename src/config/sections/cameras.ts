import { z } from "zod";

const idPattern = /^[A-Za-z0-9_-]+$/;

export const cameraSchema = z
  .strictObject({
    id: z.string().regex(idPattern).describe("Camera id, unique in this gateway."),
    lane: z.string().regex(idPattern).describe("Lane this camera watches; several cameras may share a lane."),
    source: z.enum(["rtsp", "file", "synthetic"]).default("rtsp").describe("rtsp: a network camera; file: a local clip looped in real time; synthetic: in-memory frames (tests)."),
    url: z.string().optional().describe("rtsp:// URL. Credentials belong in username/password; embedded ones are accepted but always masked."),
    username: z.string().optional().describe("Camera user; use ${ENV}."),
    password: z.string().optional().describe("Camera password; use ${ENV}."),
    file: z.string().optional().describe("Clip path for source: file."),
    width: z.number().int().min(16).max(7680).default(1920).describe("Frame width delivered to the decoder (ffmpeg scales if needed)."),
    height: z.number().int().min(16).max(4320).default(1080).describe("Frame height delivered to the decoder."),
    fps: z.number().min(0.5).max(60).default(15).describe("Expected frame rate; the watchdog and stats use it."),
    transport: z.enum(["tcp", "udp"]).default("tcp").describe("RTSP transport."),
    subStream: z.string().optional().describe("Optional low-resolution sub-stream URL used instead of the main stream for decoding."),
    startupGraceMs: z.number().int().min(500).default(10000).describe("Time allowed for the first frame after (re)start."),
    stallTimeoutMs: z.number().int().min(200).default(3000).describe("No frame for this long in steady state means stalled: the process is killed and restarted."),
  })
  .superRefine((c, ctx) => {
    if (c.source === "rtsp" && !c.url) ctx.addIssue({ code: "custom", path: ["url"], message: "required when source is rtsp", input: c.url });
    if (c.source === "file" && !c.file) ctx.addIssue({ code: "custom", path: ["file"], message: "required when source is file", input: c.file });
  });

export const camerasSection = z.array(cameraSchema).default([]).describe("Cameras; each runs its own supervised ffmpeg.");
export type CameraConfig = z.infer<typeof cameraSchema>;
