// One run, in this order: the player's page files what the staff console then works on, and
// the last file visits every screen on what the others left.
import "./player.mjs";
import "./console.mjs";
import "./screens.mjs";
