/** The pages in the navigation, in order. */
export const NAV_ITEMS = [
  { to: '/', label: 'Dashboard' },
  { to: '/library', label: 'Library' },
  { to: '/composer', label: 'Composer' },
  { to: '/studio', label: 'Studio' },
  { to: '/history', label: 'History' },
  { to: '/recipes', label: 'Recipes' },
  { to: '/imports', label: 'Imports' },
  { to: '/downloads', label: 'Downloads' },
  { to: '/deliveries', label: 'Deliveries' },
  { to: '/backups', label: 'Backups & archive' },
] as const;
