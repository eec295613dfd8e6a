// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
// is a # HELP, a # TYPE or a sample of a family declared before it; anything else is an error.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\\\\n]|\\\\[\\\\"n])*)"`;
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*,?)?\\})? (\\S+)(?: (-?\\d+))?$`);
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created', '_info'];

export function parsePrometheusText(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1} "${line}"`;
    if (line === '') return;
    const meta = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`).exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(meta[3] ?? '')) throw new Error(`${where}: unknown type`);
        types.set(meta[2], meta[3]!);
      }
      return;
    }
    if (line.startsWith('#')) return;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`${where}: not a sample`);
    const [, name, labelText, , , , , value] = sample;
    const family = types.has(name) ? name : SUFFIXES.map((suffix) => name.endsWith(suffix) && name.slice(0, -suffix.length)).find((base) => base && types.has(base));
    if (!family) throw new Error(`${where}: no # TYPE for ${name}`);
    // Prometheus reads values as Go's ParseFloat does: NaN and Inf in any letter case.
    const special: Record<string, number> = { nan: NaN, '+inf': Infinity, inf: Infinity, '-inf': -Infinity };
    const number = value.toLowerCase() in special ? special[value.toLowerCase()] : Number(value);
    if (Number.isNaN(number) && value.toLowerCase() !== 'nan') throw new Error(`${where}: not a number`);
    const labels: Record<string, string> = {};
    for (const match of (labelText ?? '').matchAll(new RegExp(LABEL, 'g'))) labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
    samples.push({ name, labels, value: number });
  });
  return samples;
}

/** The sum of the samples with this name whose labels include these (0 when there is none). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value));
  return found.reduce((sum, s) => sum + s.value, 0);
}
