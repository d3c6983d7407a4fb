import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** What is kept next to a persisted document; never the URL (it may hold credentials). */
export interface DiskMeta {
  fetchedAt: number;
  etag?: string;
  version?: string;
}

/** Last good copy of one remote source under STATE_DIR/trust/, written atomically (tmp + rename). */
export class DiskCopy {
  private readonly base: string;

  constructor(
    private readonly dir: string,
    kind: string,
    location: string,
  ) {
    const id = createHash("sha256").update(location).digest("hex").slice(0, 16);
    this.base = join(dir, `${kind}-${id}`);
  }

  async load(): Promise<{ body: Buffer; meta: DiskMeta } | undefined> {
    try {
      const [body, metaText] = await Promise.all([readFile(this.base + ".body"), readFile(this.base + ".meta.json", "utf8")]);
      const meta = JSON.parse(metaText) as DiskMeta;
      if (typeof meta.fetchedAt !== "number") return undefined;
      return { body, meta };
    } catch {
      return undefined;
    }
  }

  async save(body: Buffer | undefined, meta: DiskMeta): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    if (body) await atomicWrite(this.base + ".body", body);
    await atomicWrite(this.base + ".meta.json", JSON.stringify(meta));
  }
}

async function atomicWrite(path: string, data: Buffer | string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
