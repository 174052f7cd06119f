/** Why a process cannot listen, as one line naming the setting to change (PORT or HOST), for `npm start` and the API. */
export function listenProblem(code: string | undefined, host: string, port: number): string | null {
  switch (code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (PORT=${port}); stop what listens there or set PORT to a free port, e.g. PORT=${port === 65535 ? 3001 : port + 1}`;
    case 'EACCES':
      return `not allowed to listen on port ${port} (PORT=${port}): ports below 1024 need privileges; set PORT to a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on HOST=${host}: no such address on this machine; set HOST (e.g. 127.0.0.1, or 0.0.0.0 for every interface)`;
    default:
      return null;
  }
}
