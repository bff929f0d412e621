"""The terminal's keys: bytes read in raw mode -> key names -> what each key does.

Motion keys work like a dead-man: a key commands its motion for `timing.key_timeout` after it was last pressed; a held
key auto-repeats, so holding it keeps the robot moving and letting go stops it. Other keys act once per press.
"""

from __future__ import annotations

from dataclasses import dataclass

ESCAPES = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left",
           b"\x1bOA": "up", b"\x1bOB": "down", b"\x1bOC": "right", b"\x1bOD": "left"}
"""Arrow keys as terminals send them (normal and application cursor mode)."""
NAMED = {b" ": "space", b"\t": "tab", b"\x03": "ctrl-c", b"\x04": "ctrl-d", b"\r": "enter", b"\n": "enter",
         b"\x1b": "esc", b"\x7f": "backspace"}


def decode(data: bytes) -> list[str]:
    """Key names in a chunk of terminal input: arrows as `up`/`down`/`left`/`right`, ` ` as `space`, control keys
    by name, printable characters as themselves (case kept); unknown escape sequences are dropped."""
    keys: list[str] = []
    i = 0
    while i < len(data):
        for sequence, name in ESCAPES.items():
            if data.startswith(sequence, i):
                keys.append(name)
                i += len(sequence)
                break
        else:
            if data[i:i + 2] in (b"\x1b[", b"\x1bO"):  # another escape sequence: skip to its final byte
                j = i + 2
                while j < len(data) and not 0x40 <= data[j] <= 0x7E:
                    j += 1
                i = j + 1
                continue
            byte = data[i:i + 1]
            if byte in NAMED:
                keys.append(NAMED[byte])
            elif 0x20 < byte[0] < 0x7F:
                keys.append(byte.decode("ascii"))
            i += 1
    return keys


@dataclass(frozen=True)
class KeyAction:
    """What a key does: a motion (channel -> demand in [-1, 1], held while the key repeats), an event (once), or a
    front-end action (`faster`, `slower`, `reset`, `help`, `quit`)."""

    motion: tuple[tuple[str, float], ...] = ()
    event: str = ""
    control: str = ""
    help: str = ""


def _motion(help_text: str, **channels: float) -> KeyAction:
    return KeyAction(motion=tuple(channels.items()), help=help_text)


BINDINGS: dict[str, KeyAction] = {
    "w": _motion("forward", forward=1.0), "up": _motion("forward", forward=1.0),
    "s": _motion("backward", forward=-1.0), "down": _motion("backward", forward=-1.0),
    "a": _motion("turn left", yaw=1.0), "left": _motion("turn left", yaw=1.0),
    "d": _motion("turn right", yaw=-1.0), "right": _motion("turn right", yaw=-1.0),
    "q": _motion("step left", left=1.0), "e": _motion("step right", left=-1.0),
    "i": _motion("head up", head_tilt=1.0), "k": _motion("head down", head_tilt=-1.0),
    "j": _motion("head left", head_pan=1.0), "l": _motion("head right", head_pan=-1.0),
    "h": KeyAction(event="head_home", help="head to standing"),
    "8": _motion("gripper +x (forward in the gripper frame)", arm_x=1.0),
    "2": _motion("gripper -x", arm_x=-1.0),
    "4": _motion("gripper +y", arm_y=1.0), "6": _motion("gripper -y", arm_y=-1.0),
    "9": _motion("gripper +z", arm_z=1.0), "3": _motion("gripper -z", arm_z=-1.0),
    "0": KeyAction(event="arm_release", help="release the arm jog"),
    "o": KeyAction(event="hand_open", help="open the hand"),
    "c": KeyAction(event="hand_close", help="close the hand"),
    "tab": KeyAction(event="switch_side", help="other hand and arm"),
    "space": KeyAction(event="emergency_stop", help="EMERGENCY STOP"),
    "+": KeyAction(control="faster", help="faster"), "=": KeyAction(control="faster", help="faster"),
    "-": KeyAction(control="slower", help="slower"),
    "R": KeyAction(control="reset", help="reset the e-stop (asks to confirm)"),
    "?": KeyAction(control="help", help="help"),
    "ctrl-c": KeyAction(control="quit", help="quit"), "ctrl-d": KeyAction(control="quit", help="quit"),
}

HELP_LINE = ("w/s fwd/back  a/d turn  q/e side  i/k/j/l head  h head home  8/2 4/6 9/3 gripper x/y/z  0 release "
             "arm  o/c hand open/close  TAB side  +/- speed  SPACE E-STOP  R reset  ? help  Ctrl-C quit")
"""The one-line help the terminal shows."""


def help_text() -> str:
    """Every key and what it does, one per line (the `?` screen)."""
    lines = []
    for key, action in BINDINGS.items():
        lines.append(f"  {key:>7}  {action.help}")
    return "\n".join(lines)
