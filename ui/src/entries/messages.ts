// The /messages/ page bundle.
import '../pages/messages-page.js';
