/**
 * Forked plain subscriber of the broker phase: one MQTT.js client, QoS 1 on the telemetry filter,
 * counting readings. Latency of a message = its `sentAt` (the publisher's clock, same machine,
 * rounded to the ms) -> receipt here.
 *
 * IPC in:  {cmd:'init', url, expectedReadings} -> {type:'ready'}
 *          {cmd:'status'}                      -> {type:'status', readings, messages}
 *          {cmd:'exit'}
 * IPC out: {type:'done', tLast, readings, messages, latencies} once expectedReadings arrived.
 */
import { connect, type MqttClient } from 'mqtt';

const now = (): number => performance.timeOrigin + performance.now();

function main(): void {
  let client: MqttClient | undefined;
  let readings = 0;
  let messages = 0;
  let done = false;
  const latencies: number[] = [];
  const send = (msg: object) => process.send?.(msg);
  process.on('message', (msg: { cmd: string; url?: string; expectedReadings?: number }) => {
    if (msg.cmd === 'init') {
      const expected = msg.expectedReadings ?? 0;
      const c = connect(msg.url as string, {
        clientId: `bench-sub-${process.pid}`,
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        reconnectPeriod: 0,
      });
      client = c;
      c.on('message', (_topic, payload) => {
        const t = now();
        const body = JSON.parse(payload.toString('utf8')) as { sentAt: number; readings: unknown[] };
        latencies.push(t - body.sentAt);
        messages += 1;
        readings += body.readings.length;
        if (!done && readings >= expected) {
          done = true;
          send({ type: 'done', tLast: t, readings, messages, latencies });
        }
      });
      c.once('connect', () => {
        c.subscribeAsync('cg/v1/+/+/telemetry', { qos: 1 }).then(
          () => send({ type: 'ready' }),
          (err: unknown) => send({ type: 'error', error: String(err) }),
        );
      });
      c.once('error', (err) => send({ type: 'error', error: String(err) }));
    } else if (msg.cmd === 'status') {
      send({ type: 'status', readings, messages });
    } else if (msg.cmd === 'exit') {
      void (client ? client.endAsync(true) : Promise.resolve()).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
}

main();
