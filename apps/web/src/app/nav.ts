/** The pages in the navigation, in order. */
export const NAV_ITEMS = [
  { to: '/', label: 'Dashboard' },
  { to: '/library', label: 'Library' },
  { to: '/composer', label: 'Composer' },
] as const;
