// Loaded by test pages before the bundle (a strict CSP allows no inline script): counts the
// page's omnikit:ready events.
window.readies = 0;
document.addEventListener('omnikit:ready', () => window.readies++);
