// A region as a form field: a cascader from the provinces down, loaded level by level, whose value
// is one region code. Used to give a role or an API token its home region and to narrow the audit
// search. `depth` stops the columns at the level a role needs (6: down to counties); `within` starts
// them at one region (a user's scope: the region itself and the regions below it) instead of the
// provinces.
import { useEffect, useState } from 'react';
import { App, Cascader } from 'antd';
import { isAbortError } from '../api.ts';
import { hasNoChildren, regionsApi, type RegionSummary } from '../regions.ts';

interface Option {
  value: string;
  label: string;
  isLeaf: boolean;
  children?: Option[];
}

const LEVEL_LENGTHS = [2, 4, 6, 9, 12];

/** The codes from the province down to the region: 410225 → 41, 4102, 410225. */
export function codePath(code: string): string[] {
  return LEVEL_LENGTHS.filter((n) => n <= code.length).map((n) => code.slice(0, n));
}

function toOption(region: RegionSummary, depth: number): Option {
  return {
    value: region.code,
    label: region.name,
    isLeaf: region.code.length >= depth || hasNoChildren(region),
  };
}

function find(options: Option[] | undefined, code: string): Option | undefined {
  return options?.find((option) => option.value === code);
}

export function RegionField({
  value,
  onChange,
  depth = 12,
  within = '',
  placeholder,
  disabled,
  id,
  width = '100%',
  'data-testid': testId,
}: {
  value?: string | null;
  onChange?: (code: string | null) => void;
  depth?: number;
  /** The region the choice is limited to ('' for the whole country). */
  within?: string;
  placeholder?: string;
  disabled?: boolean;
  id?: string;
  width?: number | string;
  'data-testid'?: string;
}) {
  const { message } = App.useApp();
  const [options, setOptions] = useState<Option[]>([]);
  const [names, setNames] = useState<Record<string, string>>({});

  useEffect(() => {
    const controller = new AbortController();
    const top = within
      ? regionsApi.get(within, controller.signal).then((region) => [region])
      : regionsApi.provinces(controller.signal);
    top
      .then((items) => setOptions(items.map((item) => toOption(item, depth))))
      .catch((error: unknown) => {
        if (!isAbortError(error)) void message.error((error as Error).message);
      });
    return () => controller.abort();
  }, [depth, within, message]);

  // The columns from the top region down: above `within` there is nothing to choose.
  const pathOf = (code: string) => codePath(code).filter((step) => step.length >= within.length);

  // A value set from outside (an existing assignment) needs the names of its path.
  useEffect(() => {
    if (!value || names[value]) return;
    const controller = new AbortController();
    regionsApi
      .get(value, controller.signal)
      .then((detail) =>
        setNames((current) => ({
          ...current,
          ...Object.fromEntries(detail.path.map((step) => [step.code, step.name])),
          [detail.code]: detail.name,
        })),
      )
      .catch(() => undefined);
    return () => controller.abort();
  }, [value, names]);

  const loadChildren = async (option: Option) => {
    if (option.children) return;
    const items = await regionsApi.children(option.value);
    option.children = items.map((item) => toOption(item, depth));
  };

  const loadData = (selected: Option[]) => {
    const target = selected[selected.length - 1];
    if (!target) return;
    loadChildren(target)
      .then(() => setOptions((current) => [...current]))
      .catch((error: unknown) => void message.error((error as Error).message));
  };

  // Open the columns down to the current value, so the dropdown shows where it is.
  const onOpenChange = (open: boolean) => {
    if (!open || !value) return;
    void (async () => {
      let level = options;
      for (const code of pathOf(value).slice(0, -1)) {
        const option = find(level, code);
        if (!option) return;
        await loadChildren(option);
        level = option.children ?? [];
      }
      setOptions((current) => [...current]);
    })().catch(() => undefined);
  };

  const path = value ? pathOf(value) : [];
  return (
    <Cascader<Option>
      id={id}
      data-testid={testId}
      options={options}
      loadData={loadData}
      changeOnSelect
      showSearch={false}
      disabled={disabled}
      value={path}
      displayRender={() => path.map((code) => names[code] ?? code).join(' / ')}
      onChange={(_codes, selected) => {
        const last = selected?.[selected.length - 1];
        if (!selected || !last) {
          onChange?.(null);
          return;
        }
        setNames((current) => ({
          ...current,
          ...Object.fromEntries(selected.map((option) => [option.value, option.label])),
        }));
        onChange?.(last.value);
      }}
      onOpenChange={onOpenChange}
      placeholder={placeholder}
      allowClear
      style={{ width }}
    />
  );
}
