// The registry export (导出): a region's persons in the registry template, .xlsx or .csv, which the
// import takes back unchanged (GET /exports/registry; exports.run; ID numbers and phones masked for
// roles without persons.reveal, and the export audited either way).
import { apiDownload, saveBlob } from '../api.ts';

export type ExportFormat = 'xlsx' | 'csv';

export const exportsApi = {
  /** Downloads the region's registry and hands it to the browser; returns the file's name. */
  registry: async (region: string, format: ExportFormat): Promise<string> => {
    const { blob, filename } = await apiDownload('/exports/registry', { region, format });
    const name = filename ?? `registry-${region}.${format}`;
    saveBlob(blob, name);
    return name;
  },
};
