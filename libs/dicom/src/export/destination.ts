/** A DICOM network destination: the called AE title and where it listens. */
export interface DicomNetworkDestination {
  aeTitle: string;
  host: string;
  port: number;
}

/** PS3.5 6.2: AE titles are 1-16 characters of the default repertoire, no backslash, not all spaces. */
export function validateAeTitle(aeTitle: string): string {
  if (aeTitle.length < 1 || aeTitle.length > 16) throw new Error(`AE title "${aeTitle}" must be 1 to 16 characters`);
  if (!/^[\x20-\x7e]+$/.test(aeTitle) || aeTitle.includes('\\')) {
    throw new Error(`AE title "${aeTitle}" may hold printable ASCII only, no backslash`);
  }
  if (aeTitle.trim() === '') throw new Error('AE title must not be all spaces');
  return aeTitle;
}

/** Parses "AE@HOST:PORT" (IPv6 hosts in brackets: "AE@[::1]:104"). */
export function parseDicomDestination(text: string): DicomNetworkDestination {
  const match = /^(.+)@(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text.trim());
  if (!match) throw new Error(`"${text}" is not AE@HOST:PORT`);
  const [, aeTitle, rawHost, rawPort] = match;
  const port = Number(rawPort);
  if (port < 1 || port > 65535) throw new Error(`port ${rawPort} is out of range 1-65535`);
  const host = rawHost.startsWith('[') ? rawHost.slice(1, -1) : rawHost;
  return { aeTitle: validateAeTitle(aeTitle), host, port };
}

export function formatDicomDestination(destination: DicomNetworkDestination): string {
  const host = destination.host.includes(':') ? `[${destination.host}]` : destination.host;
  return `${destination.aeTitle}@${host}:${destination.port}`;
}
