// The parts of ECharts the statistics pages draw, registered once. Named imports let the bundler
// leave the rest of the library out; this module itself is only ever loaded by a dynamic import.
import { use, init } from 'echarts/core';
import { BarChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export { init };
