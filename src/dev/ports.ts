import { createServer } from 'node:net';

/** Whether nothing listens on 127.0.0.1:port right now (a bind test, released at once). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '127.0.0.1', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * The port to start a server on: an explicit one as given (0 = any free port; taken = the server's
 * own clear error), else the usual port when it is free, else 0 (any free port, printed later).
 */
export async function choosePort(explicit: number | undefined, usual: number): Promise<number> {
  if (explicit !== undefined) return explicit;
  if (usual === 0) return 0;
  return (await portIsFree(usual)) ? usual : 0;
}
