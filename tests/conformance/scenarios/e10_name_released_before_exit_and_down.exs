Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  Process.flag(:trap_exit, true)
  pid = spawn_link(&T.wait_forever/0)
  Process.register(pid, :named)
  ref = Process.monitor(pid)
  Process.exit(pid, :bye)
  receive do {:EXIT, ^pid, r} -> T.out("exit", r) end
  T.out("whereis", Process.whereis(:named))
  receive do {:DOWN, ^ref, _, _, r} -> T.out("down", r) end
  T.out("register", Process.register(spawn(&T.wait_forever/0), :named))
end)
T.done()
