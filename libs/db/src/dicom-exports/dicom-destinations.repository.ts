import type { DataSource } from 'typeorm';

/** The DICOM objects a destination takes. */
export type DicomResultKind = 'sr' | 'sc';
export const DICOM_RESULT_KINDS: readonly DicomResultKind[] = ['sr', 'sc'];

/** Where a client's results go: a DICOM node (C-STORE) or a DICOMweb server (STOW-RS). */
export type DestinationTarget =
  | { transport: 'dimse'; aeTitle: string; host: string; port: number }
  | { transport: 'stow'; url: string; headers: Record<string, string> };

export type DicomDestination = DestinationTarget & {
  id: string;
  clientId: string;
  clientName: string;
  objectKinds: DicomResultKind[];
  createdAt: Date;
  removedAt: Date | null;
};

const SELECT = `SELECT d.id, d.client_id, c.name AS client_name, d.transport, d.ae_title, d.host, d.port, d.url, d.headers,
                       d.object_kinds, d.created_at, d.removed_at
                  FROM dicom_destinations d JOIN clients c ON c.id = d.client_id`;

function destination(r: Record<string, any>): DicomDestination {
  const common = {
    id: r.id,
    clientId: r.client_id,
    clientName: r.client_name,
    objectKinds: r.object_kinds,
    createdAt: new Date(r.created_at),
    removedAt: r.removed_at ? new Date(r.removed_at) : null,
  };
  return r.transport === 'dimse'
    ? { ...common, transport: 'dimse', aeTitle: r.ae_title, host: r.host, port: r.port }
    : { ...common, transport: 'stow', url: r.url, headers: r.headers };
}

/** The client with this id or (unique) name; throws when there is none or the name is ambiguous. */
export async function resolveClient(ds: DataSource, idOrName: string): Promise<{ id: string; name: string }> {
  const rows: Array<{ id: string; name: string }> = await ds.query(
    `SELECT id, name FROM clients WHERE name = $1 OR id::text = $1 ORDER BY created_at`,
    [idOrName],
  );
  if (rows.length === 0) throw new Error(`no client named "${idOrName}" (see \`xray apikey list\`)`);
  if (rows.length > 1)
    throw new Error(
      `${rows.length} clients are named "${idOrName}": pass the client id (${rows.map((r) => r.id).join(', ')})`,
    );
  return rows[0];
}

export async function addDestination(
  ds: DataSource,
  clientId: string,
  target: DestinationTarget,
  objectKinds: DicomResultKind[],
): Promise<DicomDestination> {
  const [{ id }] = await ds.query(
    `INSERT INTO dicom_destinations (client_id, transport, ae_title, host, port, url, headers, object_kinds)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    target.transport === 'dimse'
      ? [clientId, 'dimse', target.aeTitle, target.host, target.port, null, {}, objectKinds]
      : [clientId, 'stow', null, null, null, target.url, JSON.stringify(target.headers), objectKinds],
  );
  return (await findDestination(ds, id))!;
}

/** Destinations (active ones unless `includeRemoved`), of one client or of all, oldest first. */
export async function listDestinations(
  ds: DataSource,
  filter: { clientId?: string; includeRemoved?: boolean } = {},
): Promise<DicomDestination[]> {
  const rows = await ds.query(
    `${SELECT} WHERE ($1::uuid IS NULL OR d.client_id = $1) AND ($2 OR d.removed_at IS NULL) ORDER BY d.created_at, d.id`,
    [filter.clientId ?? null, filter.includeRemoved ?? false],
  );
  return rows.map(destination);
}

/** A destination, removed or not (an export job of a removed destination ends its deliveries). */
export async function findDestination(ds: DataSource, id: string): Promise<DicomDestination | undefined> {
  const [row] = await ds.query(`${SELECT} WHERE d.id = $1`, [id]);
  return row && destination(row);
}

/** Removes a destination; its delivery log stays. Returns false when no active destination has this id. */
export async function removeDestination(ds: DataSource, id: string): Promise<boolean> {
  const [, count] = await ds.query(
    'UPDATE dicom_destinations SET removed_at = now() WHERE id = $1 AND removed_at IS NULL',
    [id],
  );
  return count > 0;
}
