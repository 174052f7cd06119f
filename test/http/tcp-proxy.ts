/**
 * A TCP proxy for outage tests: the app under test connects to Postgres or Redis through it, and the test cuts and
 * restores the connection without touching the real server. `cut()` destroys every open connection and stops
 * listening (new connections are refused, as with a stopped server); `restore()` listens again on the same port.
 */
import net from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections forwarded since the start. */
  readonly accepted: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  let accepted = 0;
  const onConnection = (client: net.Socket) => {
    accepted++;
    const upstream = net.connect(targetPort, targetHost);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  let server = net.createServer(onConnection);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  let listening = true;

  const stop = async () => {
    const closed = listening ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    listening = false;
    for (const socket of open) socket.destroy();
    open.clear();
    await closed;
  };
  return {
    port,
    get accepted() {
      return accepted;
    },
    cut: stop,
    async restore() {
      if (listening) return;
      server = net.createServer(onConnection);
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
      listening = true;
    },
    close: stop,
  };
}
