Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  T.out("self", self())
  Process.exit(self(), :normal)
  T.out("unreachable", true)
end)
T.done()
