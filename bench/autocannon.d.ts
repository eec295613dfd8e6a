// The part of autocannon 9's programmatic API the benchmark uses (the package ships no types, and
// @types/autocannon is not a dependency).
declare module 'autocannon' {
  function autocannon(options: autocannon.Options): autocannon.Instance;
  namespace autocannon {
    interface Request {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string;
    }

    interface Histogram {
      average: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p90: number;
      p99: number;
    }

    interface Options {
      url: string;
      connections?: number;
      duration?: number;
      amount?: number;
      overallRate?: number;
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      requests?: (Request & {
        setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
        onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
      })[];
      verifyBody?: (body: string) => boolean;
    }

    interface Result {
      requests: Histogram;
      latency: Histogram;
      duration: number;
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
    }

    interface Instance extends PromiseLike<Result> {
      stop(): void;
    }
  }
  export = autocannon;
}
