import type { AddressInfo, Server } from 'node:net';

/** Starts `server` listening; rejects with the listen error (EADDRINUSE, EACCES...) instead of emitting it. */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}
