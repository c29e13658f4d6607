// A region code shown as its name (the code on hover), or a dash when there is none.
import { Tooltip, Typography } from 'antd';

export function RegionName({ code, names }: { code: string | null; names: Record<string, string> }) {
  return code ? (
    <Tooltip title={code}>
      <span>{names[code] ?? code}</span>
    </Tooltip>
  ) : (
    <Typography.Text type="secondary">—</Typography.Text>
  );
}
