// The landing page: what Shouhu is, the working region, and the way into the capabilities.
import { Card, Col, Descriptions, Row, Typography } from 'antd';
import { ApartmentOutlined, EnvironmentOutlined } from '@ant-design/icons';
import { defineMessages, useLang, useT } from '../i18n.ts';
import { levelLabel } from '../regions.ts';
import { navigate } from '../router.tsx';
import { useAppState, usesWorkingRegion } from '../shell/app-state.tsx';
import { PageTitle } from '../shell/PageTitle.tsx';

const messages = defineMessages(
  {
    title: '首页',
    welcome: '欢迎使用守护',
    about:
      '守护是县级农村留守儿童和妇女、老年人关爱服务信息系统：记录关爱对象和家庭情况，安排走访与帮扶，统计汇总并按规定上报。',
    workingRegion: '当前区划',
    noRegion: '尚未选择。请在页头选择区划，各页面将只显示该区划内的信息。',
    level: '层级',
    code: '区划代码',
    browseRegions: '浏览行政区划',
    regionsHint: '查看省、市、县、乡、村各级区划及其代码。',
  },
  {
    title: 'Home',
    welcome: 'Welcome to Shouhu',
    about:
      'Shouhu is the county information system for the care of rural left-behind children, women and elderly: it records the people in care and their households, plans visits and support, and compiles the statistics to report.',
    workingRegion: 'Working region',
    noRegion: 'None chosen yet. Choose a region in the header and every page shows that region only.',
    level: 'Level',
    code: 'Region code',
    browseRegions: 'Browse regions',
    regionsHint: 'Provinces, prefectures, counties, townships and villages with their codes.',
  },
);

export default function Home() {
  const t = useT(messages);
  const lang = useLang();
  const { workingRegion, can } = useAppState();
  return (
    <>
      <PageTitle title={t('title')} />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={16}>
          <Card title={t('welcome')} size="small">
            <Typography.Paragraph style={{ marginBottom: 0 }}>{t('about')}</Typography.Paragraph>
          </Card>
        </Col>
        {usesWorkingRegion(can) && (
          <Col xs={24} lg={8}>
            <Card
              title={
                <span>
                  <EnvironmentOutlined style={{ marginInlineEnd: 8 }} />
                  {t('workingRegion')}
                </span>
              }
              size="small"
            >
              {workingRegion ? (
                <Descriptions
                  size="small"
                  column={1}
                  items={[
                    {
                      key: 'name',
                      label: t('workingRegion'),
                      children: workingRegion.path.map((s) => s.name).join(' / '),
                    },
                    { key: 'level', label: t('level'), children: levelLabel(workingRegion.level, lang) },
                    {
                      key: 'code',
                      label: t('code'),
                      children: <Typography.Text code>{workingRegion.code}</Typography.Text>,
                    },
                  ]}
                />
              ) : (
                <Typography.Text type="secondary">{t('noRegion')}</Typography.Text>
              )}
            </Card>
          </Col>
        )}
        <Col xs={24} sm={12} lg={8}>
          <Card size="small" hoverable onClick={() => navigate('/regions')}>
            <Card.Meta
              avatar={<ApartmentOutlined style={{ fontSize: 24, color: '#1a4d8f' }} />}
              title={t('browseRegions')}
              description={t('regionsHint')}
            />
          </Card>
        </Col>
      </Row>
    </>
  );
}
