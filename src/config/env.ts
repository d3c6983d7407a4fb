/**
 * `${NAME}` in any string value is replaced from the environment, so secrets stay out of
 * config files. Substituted values are returned so the log sink can mask them.
 */
export interface EnvResult {
  value: unknown;
  problems: string[];
  substituted: string[];
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function substituteEnv(input: unknown, env: NodeJS.ProcessEnv, path: string[] = []): EnvResult {
  const problems: string[] = [];
  const substituted: string[] = [];
  const walk = (v: unknown, p: string[]): unknown => {
    if (typeof v === "string") {
      const out = v.replace(REF, (_m, name: string) => {
        const got = env[name];
        if (got === undefined) {
          problems.push(`${p.join(".") || "(root)"}: environment variable ${name} is not set (got '\${${name}}')`);
          return "";
        }
        substituted.push(got);
        return got;
      });
      // What is left that looks like a reference is one the pattern does not take (`${CAM-PW}`,
      // `${X:-default}`, `${ X }`): kept as text it would become the value itself, a secret's name
      // as a password, or a default written into the file. Refused, like an unset variable.
      for (const m of v.replace(REF, "").matchAll(/\$\{([^}]*)\}/g)) {
        problems.push(`${p.join(".") || "(root)"}: '\${${m[1]}}' is not an environment reference (\${NAME}: letters, digits and _, no default or spaces)`);
      }
      return out;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, String(i)]));
    if (v && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...p, k]);
      return out;
    }
    return v;
  };
  return { value: walk(input, path), problems, substituted };
}
