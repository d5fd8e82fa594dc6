// One run, in this order: the player's page files what the staff console then works on.
import "./player.mjs";
import "./console.mjs";
