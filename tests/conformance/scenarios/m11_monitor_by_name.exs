Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  pid = spawn(&T.wait_forever/0)
  Process.register(pid, :svc)
  ref = Process.monitor(:svc)
  T.out("monitors", T.info(self(), :monitors))
  Process.unregister(:svc)
  Process.register(spawn(&T.wait_forever/0), :svc)
  Process.exit(pid, :x)
  receive do {:DOWN, ^ref, _, _, _} = d -> T.out("down", d) end
  ref2 = Process.monitor(:nobody)
  receive do {:DOWN, ^ref2, _, _, _} = d -> T.out("down", d) end
end)
T.done()
