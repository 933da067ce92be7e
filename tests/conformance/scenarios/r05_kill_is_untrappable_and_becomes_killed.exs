Code.require_file("../T.exs", __DIR__)
T.run(fn ->
  pid = T.start_forwarder()
  ref = Process.monitor(pid)
  T.out("exit", Process.exit(pid, :kill))
  T.out("alive", Process.alive?(pid))
  receive do {:DOWN, ^ref, _, _, _} = d -> T.out("down", d) end
end)
T.done()
