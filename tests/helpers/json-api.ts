/** A JSON client for a hub's HTTP API in tests: status and parsed body, whatever the status. */
export type JsonApi = <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

export function jsonApi(baseUrl: () => string): JsonApi {
  return async <T>(method: string, p: string, body?: unknown) => {
    const res = await fetch(`${baseUrl()}${p}`, {
      method,
      ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
}
