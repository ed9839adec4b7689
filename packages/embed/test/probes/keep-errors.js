// Loaded by a test page before the bundle: keeps the page's console.error to itself, since the
// message is the behaviour under test.
console.error = (e) => (window.refused = String(e));
