// SPDX-License-Identifier: MIT
// `marginlab render`: records a scene (or replays a trajectory) to a file with no display.
#pragma once

namespace marginlab {

/// Runs `marginlab render ARGS…` (argv[1] is "render"). Exit status: 0 when the file is complete,
/// 2 for bad input (one line on stderr), 1 when writing fails.
int runRenderCommand(int argc, char** argv);

/// The usage text of the render command.
const char* renderUsage();

}  // namespace marginlab
