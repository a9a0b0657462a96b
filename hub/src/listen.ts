import type { AddressInfo, Server } from 'node:net';

/** Listens on host:port (0 = a free port) and resolves with the address to print in URLs. */
export function listen(server: Server, port: number, host: string): Promise<{ host: string; port: number }> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address() as AddressInfo;
      resolve({ host: address.family === 'IPv6' ? `[${address.address}]` : address.address, port: address.port });
    });
  });
}
