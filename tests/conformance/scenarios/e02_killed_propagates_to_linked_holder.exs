Code.require_file("../T.exs", __DIR__)
T.main(fn ->
  me = self()
  {holder, ref} = spawn_monitor(fn ->
    v = spawn_link(&T.wait_forever/0)
    send(me, {:victim, v})
    T.wait_forever()
  end)
  victim = receive do {:victim, v} -> v end
  T.out("holder", holder)
  Process.exit(victim, :kill)
  receive do {:DOWN, ^ref, _, _, _} = d -> T.out("down", d) end
end)
T.done()
