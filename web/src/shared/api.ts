// The pages' one HTTP client: every call is typed by the path and method of the API's OpenAPI
// description, sends the token and the page's language, and turns any non-2xx answer into an
// `ApiError` carrying the API's error body (`error`, `field`, `rule`...), which `errors.ts`
// words in the page's language.
import type { ErrorBody, Language, Paths } from "./schema";

type Method = "get" | "post" | "delete";
type Operation<P extends keyof Paths, M extends Method> = NonNullable<Paths[P][M]>;
type JsonOf<R> = R extends { content: { "application/json": infer J } } ? J : never;
type Success<O> = O extends { responses: infer R } ? JsonOf<R[Extract<keyof R, 200 | 201 | 202>]> : never;
type BodyOf<O> = O extends { requestBody: { content: { "application/json": infer B } } }
  ? B
  : O extends { requestBody?: { content: { "application/json": infer B } } }
    ? B | undefined
    : undefined;
type PathsWith<M extends Method> = {
  [P in keyof Paths]: Paths[P][M] extends undefined | never ? never : P;
}[keyof Paths];

export interface CallOptions<B> {
  /** Values for the path's `{placeholders}`. */
  params?: Record<string, string>;
  query?: Record<string, string | number | undefined>;
  body?: B;
  /** A retry with the same key changes nothing (`POST /tickets`). */
  idempotencyKey?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body?.message ?? `HTTP ${status}`);
  }
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string | null,
    private readonly language: () => Language,
  ) {}

  get<P extends PathsWith<"get">>(path: P, options: CallOptions<never> = {}) {
    return this.call<P, "get">("get", path, options);
  }

  post<P extends PathsWith<"post">>(path: P, options: CallOptions<BodyOf<Operation<P, "post">>> = {}) {
    return this.call<P, "post">("post", path, options);
  }

  delete<P extends PathsWith<"delete">>(path: P, options: CallOptions<BodyOf<Operation<P, "delete">>> = {}) {
    return this.call<P, "delete">("delete", path, options);
  }

  private async call<P extends keyof Paths, M extends Method>(
    method: M,
    path: P,
    options: CallOptions<unknown>,
  ): Promise<Success<Operation<P, M>>> {
    const url = this.base + expand(String(path), options.params ?? {}) + queryString(options.query ?? {});
    const headers: Record<string, string> = {
      Accept: "application/json",
      "Accept-Language": this.language(),
    };
    const token = this.token();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.idempotencyKey) headers["Idempotency-Key"] = options.idempotencyKey;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    let response: Response;
    try {
      response = await fetch(url, { method: method.toUpperCase(), headers, body });
    } catch {
      // No answer at all (offline, DNS): status 0, worded as such by errors.ts.
      throw new ApiError(0, null);
    }
    const text = await response.text();
    const json: unknown = text ? safeParse(text) : null;
    if (!response.ok) {
      throw new ApiError(response.status, isErrorBody(json) ? json : null);
    }
    return json as Success<Operation<P, M>>;
  }
}

function expand(path: string, params: Record<string, string>): string {
  return path.replace(/\{([a-z_]+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}

function queryString(query: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string";
}

/** A fresh key for one submission, kept until it succeeds so a retry is recognised. */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
