// SPDX-License-Identifier: MIT
#include <iostream>
int main() { std::cout << "marginlab-cli\n"; return 0; }
