// The header's working-region picker: a cascader that loads each level's children when opened.
// Any level within the user's scope may be chosen (a county clerk works on the county or one of its
// townships, a village director on the village); the columns start at the scope, so nothing above
// or beside it is offered (the server would refuse it).
import { useEffect, useRef, useState } from 'react';
import { App, Cascader } from 'antd';
import { EnvironmentOutlined } from '@ant-design/icons';
import { isAbortError } from '../api.ts';
import { useT } from '../i18n.ts';
import {
  hasNoChildren,
  regionsApi,
  type RegionLevel,
  type RegionRef,
  type RegionSummary,
} from '../regions.ts';
import { useAppState } from './app-state.tsx';

interface Option {
  value: string;
  label: string;
  level: RegionLevel;
  isLeaf: boolean;
  children?: Option[];
}

const toOption = (region: RegionSummary): Option => ({
  value: region.code,
  label: region.name,
  level: region.level,
  isLeaf: hasNoChildren(region),
});

function findOption(options: Option[] | undefined, code: string): Option | undefined {
  return options?.find((option) => option.value === code);
}

export function RegionSelector({ block = false }: { block?: boolean }) {
  const t = useT();
  const { message } = App.useApp();
  const { workingRegion, setWorkingRegion, me } = useAppState();
  const scope = me?.regionCode ?? '';
  const [options, setOptions] = useState<Option[]>([]);
  // The regions above the scope (province down to its parent): the start of every chosen path.
  const [above, setAbove] = useState<RegionRef[]>([]);
  const restored = useRef(false);

  useEffect(() => {
    const controller = new AbortController();
    restored.current = false;
    const top = scope
      ? regionsApi.get(scope, controller.signal).then((region) => {
          setAbove(region.path);
          return [region];
        })
      : regionsApi.provinces(controller.signal).then((items) => {
          setAbove([]);
          return items;
        });
    top
      .then((items) => setOptions(items.map(toOption)))
      .catch((error: unknown) => {
        if (!isAbortError(error)) void message.error((error as Error).message);
      });
    return () => controller.abort();
  }, [message, scope]);

  // The working region's path as the cascader's columns hold it: from the scope down.
  const columns = workingRegion ? workingRegion.path.filter((step) => step.code.length >= scope.length) : [];

  const loadChildren = async (option: Option) => {
    if (option.children) return;
    const items = await regionsApi.children(option.value);
    option.children = items.map(toOption);
  };

  const loadData = (selected: Option[]) => {
    const target = selected[selected.length - 1];
    if (!target) return;
    loadChildren(target)
      .then(() => setOptions((current) => [...current]))
      .catch((error: unknown) => void message.error((error as Error).message));
  };

  // After a reload the remembered region's columns are not loaded yet; fill them in on first open
  // so the dropdown shows where the user is.
  const onOpenChange = (open: boolean) => {
    if (!open || restored.current || !workingRegion) return;
    restored.current = true;
    void (async () => {
      let level = options;
      for (const step of columns.slice(0, -1)) {
        const option = findOption(level, step.code);
        if (!option) return;
        await loadChildren(option);
        level = option.children ?? [];
      }
      setOptions((current) => [...current]);
    })().catch(() => undefined);
  };

  return (
    <Cascader<Option>
      aria-label={t('workingRegion')}
      data-testid="region-selector"
      options={options}
      loadData={loadData}
      changeOnSelect
      value={columns.map((step) => step.code)}
      displayRender={() => (workingRegion ? workingRegion.path.map((step) => step.name).join(' / ') : '')}
      onChange={(_codes, selected) => {
        const last = selected?.[selected.length - 1];
        if (!selected || !last) {
          setWorkingRegion(null);
          return;
        }
        setWorkingRegion({
          code: last.value,
          name: last.label,
          level: last.level,
          path: [...above, ...selected.map((option) => ({ code: option.value, name: option.label }))],
        });
      }}
      onOpenChange={onOpenChange}
      placeholder={t('chooseRegion')}
      prefix={<EnvironmentOutlined />}
      allowClear
      style={{ width: block ? '100%' : 280 }}
    />
  );
}
