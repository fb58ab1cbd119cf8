// What the console holds between requests: who is logged in, which view and question are
// shown, the departments; and what the caller's roles allow. One shared object, so that every
// module sees the same state (imported bindings cannot be assigned to).

export const state = {
  auth: null, // { staff, csrf }
  view: null,
  ref: null,
  detail: null,
  // A field to focus once the question opened by a shortcut from the queue is shown.
  pendingFocus: null,
  // The session of the live view or the summary editor.
  liveId: null,
  // Triage (issue 6): departments with members.
  departments: [],
};

export function roles() {
  const { auth } = state;
  return auth && auth.staff && Array.isArray(auth.staff.roles) ? auth.staff.roles : [];
}

export function mayViewAudit() {
  const r = roles();
  return r.includes('admin') || r.includes('data_protection');
}

// Holds only the data protection role: nothing but the audit trail to show.
export function auditOnly() {
  const r = roles();
  return r.length > 0 && r.every((role) => role === 'data_protection');
}
