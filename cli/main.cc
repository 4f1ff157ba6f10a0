#include <cstdio>

int main() {
  std::puts("lockstep: under construction");
  return 0;
}
