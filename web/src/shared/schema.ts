// The API's shapes, as `infra/openapi.json` describes them (generated into api-schema.d.ts by
// `npm run types`): the pages are type-checked against the contract the API is tested against.
import type { components, paths } from "./api-schema";

export type Schemas = components["schemas"];
export type S<K extends keyof Schemas> = Schemas[K];
export type Paths = paths;

export type Language = S<"Language">;
export type ErrorBody = S<"ErrorBody"> & Record<string, unknown>;
