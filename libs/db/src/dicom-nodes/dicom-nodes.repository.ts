import type { DataSource } from 'typeorm';

/** A calling AE title allowed to send DICOM for a client, optionally pinned to one host. */
export interface DicomNode {
  id: string;
  clientId: string;
  clientName: string;
  aeTitle: string;
  host: string | null;
  createdAt: Date;
}

function toNode(r: Record<string, any>): DicomNode {
  return {
    id: r.id,
    clientId: r.client_id,
    clientName: r.client_name,
    aeTitle: r.ae_title,
    host: r.host,
    createdAt: r.created_at,
  };
}

const SELECT_NODES = `SELECT n.id, n.client_id, c.name AS client_name, n.ae_title, n.host, n.created_at
                        FROM dicom_nodes n JOIN clients c ON c.id = n.client_id`;

/** Registers a calling AE title; undefined when the AE title is already registered. */
export async function addDicomNode(
  ds: DataSource,
  node: { clientId: string; aeTitle: string; host?: string | null },
): Promise<DicomNode | undefined> {
  const [inserted]: Array<{ id: string }> = await ds.query(
    'INSERT INTO dicom_nodes (client_id, ae_title, host) VALUES ($1, $2, $3) ON CONFLICT (ae_title) DO NOTHING RETURNING id',
    [node.clientId, node.aeTitle, node.host ?? null],
  );
  if (!inserted) return undefined;
  const [row] = await ds.query(`${SELECT_NODES} WHERE n.id = $1`, [inserted.id]);
  return toNode(row);
}

export async function listDicomNodes(ds: DataSource): Promise<DicomNode[]> {
  return (await ds.query(`${SELECT_NODES} ORDER BY n.ae_title`)).map(toNode);
}

export async function findDicomNode(ds: DataSource, aeTitle: string): Promise<DicomNode | undefined> {
  const [row] = await ds.query(`${SELECT_NODES} WHERE n.ae_title = $1`, [aeTitle]);
  return row ? toNode(row) : undefined;
}

/** False when no node has this AE title. */
export async function removeDicomNode(ds: DataSource, aeTitle: string): Promise<boolean> {
  const [, count] = await ds.query('DELETE FROM dicom_nodes WHERE ae_title = $1', [aeTitle]);
  return count === 1;
}
