// The registry export (导出): a region's persons in the registry template, .xlsx or .csv, which the
// import takes back unchanged (GET /exports/registry; exports.run; ID numbers and phones masked for
// roles without persons.reveal, and the export audited either way).
import { api, apiDownload, saveBlob } from '../api.ts';

export type ExportFormat = 'xlsx' | 'csv';

/** What the export of a region leaves out (GET /exports/registry/gaps). */
export interface ExportGaps {
  total: number;
  persons: { personId: number; name: string; hukouRegionCode: string; reasons: string[] }[];
  linksWithoutIdNumber: number;
}

export const exportsApi = {
  /** Downloads the region's registry and hands it to the browser; returns the file's name. */
  registry: async (region: string, format: ExportFormat): Promise<string> => {
    const { blob, filename } = await apiDownload('/exports/registry', { region, format });
    const name = filename ?? `registry-${region}.${format}`;
    saveBlob(blob, name);
    return name;
  },
  /** The persons of the region the template cannot hold, and the links no row can state. */
  gaps: (region: string): Promise<ExportGaps> =>
    api.get<ExportGaps>('/exports/registry/gaps', { query: { region, limit: 50 } }),
};
