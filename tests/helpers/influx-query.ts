/** Reads InfluxDB 1.x over its HTTP query API, for tests that check what landed there. */

export interface InfluxSeries {
  columns: string[];
  values: unknown[][];
  tags?: Record<string, string>;
}

/** Every series of the first statement's result (ms timestamps); throws on a query error. */
export async function influxSeries(influxUrl: string, database: string, q: string): Promise<InfluxSeries[]> {
  const url = `${influxUrl}/query?db=${encodeURIComponent(database)}&epoch=ms&q=${encodeURIComponent(q)}`;
  const body = (await (await fetch(url)).json()) as { results: { series?: InfluxSeries[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(`InfluxDB: ${body.results[0].error}`);
  return body.results[0]?.series ?? [];
}
