"""Hand-made mill motions for the stock, heightmap and probe tests: tip points in the default work frame,
turned into the machine gauge points a G43 program would produce."""
from simulators.cnc_mill.tools import default_tools
from simulators.cnc_mill.workpiece import DEFAULT_PART_ORIGIN, Workpiece
from simulators.core.motion import Motion

TOOLS = default_tools()


def mv(kind, line, tool, a, b, centre=None, cw=False, rpm=2000.0, feed=300.0):
    """A motion from work-frame TIP points (what a G43 program states) to machine gauge points."""
    drop = TOOLS[tool].length if tool else 0.0
    ox, oy, oz = DEFAULT_PART_ORIGIN

    def machine(p):
        return (p[0] + ox, p[1] + oy, p[2] + oz + drop)

    return Motion(kind, line, machine(a), machine(b), feed_mm_min=feed, spindle_rpm=rpm,
                  spindle_dir=1 if rpm > 0 else 0, tool=tool,
                  centre=machine(centre) if centre is not None else None, clockwise=cw)


def run(motions, wp=None):
    """Apply `motions` to a workpiece (a fresh default one unless given); the workpiece and every crash."""
    wp = wp or Workpiece()
    crashes = []
    for m in motions:
        crashes += wp.apply(m)
    return wp, crashes
