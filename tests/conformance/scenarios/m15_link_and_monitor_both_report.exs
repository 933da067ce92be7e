Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  Process.flag(:trap_exit, true)
  pid = spawn_link(&T.wait_forever/0)
  ref = Process.monitor(pid)
  Process.exit(pid, :kill)
  receive do {:EXIT, ^pid, r} -> T.out("exit", r) end
  receive do {:DOWN, ^ref, _, _, r} -> T.out("down", r) end
end)
T.done()
