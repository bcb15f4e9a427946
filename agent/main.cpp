// auditship: CLI entry point. Only parses the command line and dispatches (see agent/cli/).
#include "auditship/cli/commands.h"

int main(int argc, char** argv) { return auditship::cli::main(argc, argv); }
