// The widget bundle: `<script src="/static/parley-widgets.js" defer>` defines <parley-dm> and <parley-room>.
import '../widgets/widget-base-url.js';
import '../widgets/parley-dm.js';
import '../widgets/parley-room.js';
