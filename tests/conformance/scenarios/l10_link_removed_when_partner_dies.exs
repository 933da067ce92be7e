Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  Process.flag(:trap_exit, true)
  pid = spawn_link(&T.wait_forever/0)
  T.out("links", T.info(self(), :links))
  Process.exit(pid, :kill)
  receive do {:EXIT, ^pid, r} -> T.out("exit", r) end
  T.out("links", T.info(self(), :links))
end)
T.done()
