/**
 * Chinese and English labels. Case states, actions, roles and urgencies are the case model's
 * vocabulary; category names come from the catalogue (name in Chinese, nameEn when it has one).
 * The choice is remembered in localStorage.
 */
export type Lang = 'zh' | 'en';

const STORAGE_KEY = 'citygrid.lang';

export let lang: Lang = (() => {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
})();

const listeners = new Set<() => void>();
export function onLangChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setLang(next: Lang): void {
  lang = next;
  try {
    localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // private mode: the choice lasts for this page only
  }
  document.documentElement.lang = next;
  for (const fn of listeners) fn();
}

type Pair = readonly [zh: string, en: string];

export const STATES: Record<string, Pair> = {
  reported: ['上报', 'Reported'],
  accepted: ['受理', 'Accepted'],
  filed: ['立案', 'Filed'],
  dispatched: ['派遣', 'Dispatched'],
  returned: ['回退', 'Returned'],
  processing: ['处置中', 'Processing'],
  postponed: ['延期', 'Postponed'],
  feedback: ['处理反馈', 'Handled'],
  verifying: ['核查', 'Verifying'],
  rework: ['返工', 'Rework'],
  closed: ['结案', 'Closed'],
  not_filed: ['不予立案', 'Not filed'],
  suspended: ['挂账', 'Suspended'],
  evaluated: ['综合评价', 'Evaluated'],
};

export const ACTIONS: Record<string, Pair> = {
  accept: ['受理', 'Accept'],
  reject: ['不予立案', 'Reject'],
  file: ['立案', 'File'],
  dispatch: ['派遣', 'Dispatch'],
  return: ['回退', 'Return'],
  start: ['开始处置', 'Start work'],
  request_extension: ['申请延期', 'Request extension'],
  approve_extension: ['批准延期', 'Approve extension'],
  deny_extension: ['驳回延期', 'Deny extension'],
  resume: ['恢复处置', 'Resume'],
  report_handled: ['处理反馈', 'Report handled'],
  verify: ['核查', 'Verify'],
  pass: ['核查通过', 'Pass'],
  fail: ['核查不通过', 'Fail'],
  suspend: ['挂账', 'Suspend'],
  unsuspend: ['解除挂账', 'Unsuspend'],
  evaluate: ['综合评价', 'Evaluate'],
  escalate: ['升级', 'Escalate'],
  mark_overdue: ['超期', 'Overdue'],
  mark_normal: ['恢复正常', 'Back to normal'],
  opened: ['立项', 'Opened'],
  report: ['上报', 'Report'],
  raise: ['信号触发', 'Raised'],
  open: ['上报', 'Opened'],
  join: ['合并信号', 'Joined'],
};

export const ROLES: Record<string, Pair> = {
  city_supervisor: ['监督中心', 'City supervisor'],
  district_commander: ['区指挥中心', 'District commander'],
  unit_handler: ['处置单位', 'Unit handler'],
  system: ['系统', 'System'],
};

export const URGENCIES: Record<string, Pair> = {
  normal: ['一般', 'Normal'],
  elevated: ['较急', 'Elevated'],
  urgent: ['紧急', 'Urgent'],
  critical: ['特急', 'Critical'],
};

const UI = {
  appTitle: ['城市网格运行监控', 'citygrid console'],
  map: ['地图', 'Map'],
  telemetry: ['实时监测', 'Telemetry'],
  cases: ['案件', 'Cases'],
  gateways: ['网关', 'Gateways'],
  logout: ['退出', 'Log out'],
  login: ['登录', 'Log in'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  loginFailed: ['用户名或密码错误', 'Wrong username or password'],
  live: ['实时', 'live'],
  reconnecting: ['重连中…', 'reconnecting…'],
  state: ['状态', 'State'],
  district: ['区', 'District'],
  unit: ['单位', 'Unit'],
  category: ['类别', 'Category'],
  urgency: ['紧急程度', 'Urgency'],
  overdue: ['超期', 'Overdue'],
  all: ['全部', 'All'],
  openOnly: ['未结', 'Open'],
  deadline: ['剩余时间', 'Time left'],
  reportedAt: ['上报时间', 'Reported'],
  asset: ['部件', 'Asset'],
  source: ['来源', 'Source'],
  history: ['处理过程', 'History'],
  signals: ['信号', 'Signals'],
  evidence: ['证据', 'Evidence'],
  actions: ['操作', 'Actions'],
  note: ['备注', 'Note'],
  noActions: ['当前角色在此状态下无可执行操作', 'No action for your role in this state'],
  noEvidence: ['暂无证据', 'No evidence yet'],
  device: ['设备', 'Device'],
  field: ['指标', 'Field'],
  value: ['数值', 'Value'],
  time: ['时间', 'Time'],
  pickDevice: ['选择设备', 'Pick a device'],
  online: ['在线', 'online'],
  offline: ['离线', 'offline'],
  lastSeen: ['最后通信', 'Last seen'],
  backlog: ['待发积压', 'Outbox backlog'],
  gaps: ['序号缺口', 'Sequence gaps'],
  devicesOffline: ['离线设备', 'Devices offline'],
  gateway: ['网关', 'Gateway'],
  more: ['更多', 'More'],
  vehicles: ['车辆', 'Vehicles'],
  shown: ['显示', 'shown'],
  noCases: ['没有符合条件的案件', 'No case matches'],
  back: ['返回', 'Back'],
  chartHours: ['小时', 'hours'],
  noHistory: ['无历史数据', 'No history'],
  limit: ['限值', 'limit'],
  newCase: ['新案件', 'New case'],
  extensionHours: ['延期小时', 'Extension hours'],
  forbidden: ['无权限', 'Not allowed'],
} as const satisfies Record<string, Pair>;

export type UiKey = keyof typeof UI;

const pick = (p: Pair | undefined, fallback: string): string => (p ? p[lang === 'zh' ? 0 : 1] : fallback);

export const t = (key: UiKey): string => pick(UI[key], key);
export const stateLabel = (s: string): string => pick(STATES[s], s);
export const actionLabel = (a: string): string => pick(ACTIONS[a], a);
export const roleLabel = (r: string): string => pick(ROLES[r], r);
export const urgencyLabel = (u: string): string => pick(URGENCIES[u], u);
